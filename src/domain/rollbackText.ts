// The sentences and JSON that report an interrupted rollback: pure text, loaded by every command that
// opens the store (its warning), by the registry renderers and by serve's /ready.
import type { RollbackIntent } from "./registry.js"

export const describeIntent = (i: RollbackIntent) =>
  `an interrupted rollback of ${i.model} to version ${i.toVersion} (intent ${i.id}, started ${i.createdAt} by ${i.actor}: "${i.reason}")`

/** One sentence: what is pending and the two commands that finish it (`config`: the pipeline config, when known). */
export const pendingRollbackSentence = (i: RollbackIntent, config = "<config>") =>
  `${describeIntent(i)} is pending, so version ${i.fromVersion ?? "(none)"} is still the one deployed; finish it with \`driftgate rollback --config ${config} --resume\` or drop it with \`driftgate rollback --config ${config} --abandon --reason TEXT\``

/** The JSON form serve shows on /ready and /models. */
export const pendingRollbackJson = (i: RollbackIntent) => ({
  model: i.model,
  intent: i.id,
  from_version: i.fromVersion,
  to_version: i.toVersion,
  started_at: i.createdAt,
  actor: i.actor,
  reason: i.reason,
  message: pendingRollbackSentence(i)
})
