// Every failed test step leaves a picture of what the user would have seen. The harness already
// does this for its own actions; this covers the tests' assertions.
import type { Workbench } from './workbench';

export async function withFailureScreenshot<T>(wb: Workbench | undefined, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const shot = wb ? await wb.screenshot(`failed-${name}`).catch(() => '(no screenshot: the page is gone)') : '(no workbench)';
    if (err instanceof Error) {
      err.message = `${err.message}\n  screenshot: ${shot}`;
      throw err;
    }
    throw new Error(`${String(err)}\n  screenshot: ${shot}`);
  }
}
