/**
 * One way for every bench to say whether it met its stated targets: each check prints PASS or FAIL
 * with what was measured, a row that could not be measured is a FAIL, and the process exits 1 when
 * any check failed (issue #12 item 12: a bench never passes when it misses).
 */
export interface TargetCheck {
  /** What the target is about ("serve single rows", "driftgate --help"). */
  readonly name: string
  /** undefined: the row could not be measured, which fails like a miss. */
  readonly ok: boolean | undefined
  /** The measured figure against the target, in words ("9,366 req/s ≥ 5,000, p99 4 ms < 20 ms"). */
  readonly detail: string
}

/** Prints one line per check (to stderr when `json` output owns stdout) and returns how many failed. */
export const reportTargets = (
  checks: ReadonlyArray<TargetCheck>,
  write: (line: string) => void = (l) => console.log(l)
): number => {
  let failed = 0
  for (const c of checks) {
    const verdict = c.ok === true ? "PASS" : "FAIL"
    if (c.ok !== true) failed++
    write(`${verdict}  ${c.name}: ${c.ok === undefined ? `could not be measured (${c.detail})` : c.detail}`)
  }
  return failed
}

/** Reports the checks and sets the exit code: 1 when any target was missed or not measured, else 0. */
export const exitOnTargets = (checks: ReadonlyArray<TargetCheck>, write?: (line: string) => void): void => {
  const failed = reportTargets(checks, write)
  if (failed > 0) process.exitCode = 1
}
