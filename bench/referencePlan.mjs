// Where bench/run.mjs's scikit-learn figures go and where bench/ml.ts reads them (issue #12 item 12):
// a bench run writes fresh figures to bench/out/ and compares with those; the committed
// bench/sklearn_reference.json changes only when --update-reference is passed.
export const COMMITTED_REFERENCE = "bench/sklearn_reference.json"
export const FRESH_REFERENCE = "bench/out/sklearn_reference.json"

/**
 * @param {ReadonlyArray<string>} argv bench/run.mjs's arguments
 * @param {boolean} hasSklearn whether /usr/bin/python3 can import sklearn (the peer runs in the same run)
 * @returns {{ python: string[] | null, reference: string }} the sklearn_reference.py arguments (null: not run)
 *   and the reference file bench/ml.ts compares with
 */
export const referencePlan = (argv, hasSklearn) => {
  const update = argv.includes("--update-reference")
  if (!hasSklearn) return { python: null, reference: COMMITTED_REFERENCE }
  return update
    ? { python: ["bench/sklearn_reference.py", "--update-reference"], reference: COMMITTED_REFERENCE }
    : { python: ["bench/sklearn_reference.py"], reference: FRESH_REFERENCE }
}
