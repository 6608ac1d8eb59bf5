import type { TabularKind } from "../domain/training.js"
import { decisionTree } from "./decisionTree.js"
import { randomForest } from "./forest.js"
import { histGradientBoosting } from "./hgb.js"
import type { Learner } from "./learner.js"
import { linearRegression, ridge } from "./linear.js"
import { logisticRegression } from "./logistic.js"

/**
 * kind → learner, for every kind trained in-process. Adding a learner is one file in src/ml, its row
 * in domain/training.ts's `learnerSpecs` (tasks and params schema), and one row here; the compiler
 * asks for the rows (both tables are typed by the kinds).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- learners of different parameter and model types in one table
export const learners: Readonly<Record<TabularKind, Learner<any, any>>> = {
  decision_tree: decisionTree,
  random_forest: randomForest,
  logistic_regression: logisticRegression,
  linear_regression: linearRegression,
  ridge,
  hist_gradient_boosting: histGradientBoosting
}
