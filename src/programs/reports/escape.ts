import { escapeHtml } from "../serve/page.js"

/** Text from data (labels, column names, reasons, paths) made safe inside HTML text and quoted attributes. */
export const esc = (s: unknown): string => escapeHtml(String(s))

/** A number for a table cell: 4 decimals, tiny values in exponent form, "—" for none. */
export const fmt = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? "—"
    : Math.abs(v) > 0 && Math.abs(v) < 10 ** -digits
      ? v.toExponential(2)
      : Number.isInteger(v)
        ? String(v)
        : v.toFixed(digits)
