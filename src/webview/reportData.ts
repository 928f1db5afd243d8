/** The id of the JSON island (`<script type="application/json">`) a report page carries its runs in. */
export const REPORT_DATA_ELEMENT_ID = 'vae-lens-data';
