/**
 * A tiny element builder. Text always goes in through textContent and attributes through
 * setAttribute, so nothing from a spec, a run name or a file name is ever parsed as HTML.
 */
export interface ElementProps {
  className?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** A small coloured square identifying a run in compare mode (colour set through the CSSOM, which the CSP allows). */
export function swatch(colour: string): HTMLSpanElement {
  const s = h('span', { className: 'vl-swatch', attrs: { 'aria-hidden': 'true' } });
  s.style.backgroundColor = colour;
  return s;
}

/** The focus key (data-focus-key) of the focused element, if it has one: what to focus again after a rebuild. */
export function focusedKey(): string | undefined {
  return document.activeElement?.getAttribute('data-focus-key') ?? undefined;
}

/** Focus the element with this key again, if the rebuild made one (a rebuild must not drop the keyboard focus to the page). */
export function refocus(scope: ParentNode, key: string | undefined): void {
  if (key === undefined || document.activeElement?.getAttribute('data-focus-key') === key) return;
  for (const el of scope.querySelectorAll<HTMLElement>('[data-focus-key]')) {
    if (el.getAttribute('data-focus-key') === key) return el.focus();
  }
}

/**
 * Text with an explanation that a mouse, a keyboard and a screen reader all reach (a `title` reaches
 * only the mouse): the text is a Tab stop described by the explanation (aria-describedby), which shows
 * beside it on hover and on focus, and hides on Escape. `id` must be unique in the page and the same
 * across rebuilds, so refocus can find the term again.
 */
export function explained(content: Child, help: string, id: string): HTMLElement {
  const term = h('span', { className: 'vl-term', attrs: { tabindex: '0', 'aria-describedby': id, 'data-focus-key': `term:${id}` } }, content);
  const tip = h('span', { className: 'vl-tip', text: help, attrs: { role: 'tooltip', id } });
  const wrap = h('span', { className: 'vl-term-wrap' }, term, tip);
  const show = () => wrap.classList.remove('vl-tip-dismissed');
  term.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') wrap.classList.add('vl-tip-dismissed');
  });
  term.addEventListener('focus', show);
  wrap.addEventListener('mouseenter', show);
  return wrap;
}
