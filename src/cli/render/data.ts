/** What `driftgate data export … --out FILE` wrote, for the summary line (and --json). */
export interface ExportSummary {
  readonly run_id: string
  readonly split: string
  readonly format: string
  readonly rows: number
  readonly columns: ReadonlyArray<string>
  readonly dataset: string
  readonly dataset_version: string
  readonly source: string
  readonly out: string
  readonly bytes: number
}

/** `driftgate data export RUN --split val --out FILE`: one line saying what went where. */
export const exportText = (s: ExportSummary): string =>
  `wrote run ${s.run_id}'s ${s.split} split (${s.rows.toLocaleString("en")} rows × ${s.columns.length} columns, dataset ${s.dataset} ${s.dataset_version.slice(0, 12)}) to ${s.out} as ${s.format} (${s.bytes.toLocaleString("en")} bytes)`
