import { Effect, Either, Schedule, Stream } from "effect"
import type { StoreError } from "../../domain/errors.js"
import { type RegistryFollowEvent, type RegistryHead, sameHead } from "../../domain/registry.js"

export const DEFAULT_POLL_MS = 1_000

/**
 * Following by polling (SQLite, memory): the head now, then every `pollMs`, emitted when it moved.
 * A failed read (the store busy or briefly gone) is skipped; the next interval reads again.
 */
export const pollChanges = (
  head: Effect.Effect<RegistryHead, StoreError>,
  pollMs: number = DEFAULT_POLL_MS
): Stream.Stream<RegistryFollowEvent> =>
  Stream.concat(
    Stream.succeed<RegistryFollowEvent>({
      _tag: "Mode",
      mode: "poll",
      reason: `reading the registry head every ${pollMs} ms`
    }),
    Stream.repeatEffectWithSchedule(Effect.either(head), Schedule.spaced(pollMs)).pipe(
      Stream.filterMap((e) => Either.getRight(e)),
      Stream.changesWith(sameHead),
      Stream.map((h): RegistryFollowEvent => ({ _tag: "Head", head: h, via: "poll" }))
    )
  )

/** A connection that receives the registry channel's notifications (PostgreSQL LISTEN). */
export interface ChannelListener {
  /** Called on every notification. */
  readonly onNotify: (f: () => void) => void
  /** Called once when the connection is lost (error or end). */
  readonly onLost: (f: (reason: string) => void) => void
  readonly close: () => Promise<void>
}

export interface ListenFollowOptions {
  /** Reads the head (a cheap SELECT on the pool). */
  readonly readHead: () => Promise<RegistryHead>
  /** Opens a connection and LISTENs on the channel; rejects when it cannot. */
  readonly connect: () => Promise<ChannelListener>
  /** Interval of the polling that stands in while the listening connection is down. */
  readonly pollMs?: number
  /** Reconnection backoff: first delay, doubled after each failure up to `maxMs`. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * Following by notification with a polling fallback: LISTEN on a dedicated connection and read the
 * head on every notification (and once right after connecting, for changes made while it was down).
 * When that connection is lost (or cannot be opened), poll the head every `pollMs` and reconnect
 * with exponential backoff; once reconnected, polling stops. Heads are read one at a time and
 * emitted only when they differ from the last one emitted.
 */
export const listenChanges = (options: ListenFollowOptions): Stream.Stream<RegistryFollowEvent> =>
  Stream.async<RegistryFollowEvent>((emit) => {
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS
    const backoff = options.backoff ?? { initialMs: 250, maxMs: 5_000 }
    let stopped = false
    let last: RegistryHead | undefined
    let listener: ChannelListener | undefined
    let pollTimer: ReturnType<typeof setInterval> | undefined
    let retryTimer: ReturnType<typeof setTimeout> | undefined
    let delay = backoff.initialMs
    let reading: Promise<void> = Promise.resolve()

    const check = (via: "listen" | "poll") => {
      reading = reading.then(async () => {
        if (stopped) return
        try {
          const h = await options.readHead()
          if (stopped || (last !== undefined && sameHead(last, h))) return
          last = h
          void emit.single({ _tag: "Head", head: h, via })
        } catch {
          // Read again at the next notification or poll.
        }
      })
    }

    const startPolling = (reason: string) => {
      if (pollTimer !== undefined || stopped) return
      void emit.single({
        _tag: "Mode",
        mode: "poll",
        reason: `${reason}; reading the registry head every ${pollMs} ms while reconnecting`
      })
      pollTimer = setInterval(() => check("poll"), pollMs)
      check("poll")
    }
    const stopPolling = () => {
      if (pollTimer !== undefined) clearInterval(pollTimer)
      pollTimer = undefined
    }

    const connect = async (): Promise<void> => {
      retryTimer = undefined
      if (stopped) return
      let l: ChannelListener
      try {
        l = await options.connect()
      } catch (e) {
        startPolling(`cannot listen on the registry channel (${message(e)})`)
        retryTimer = setTimeout(() => void connect(), delay)
        delay = Math.min(delay * 2, backoff.maxMs)
        return
      }
      if (stopped) {
        await l.close().catch(() => undefined)
        return
      }
      listener = l
      delay = backoff.initialMs
      let lost = false
      l.onNotify(() => check("listen"))
      l.onLost((reason) => {
        if (lost || stopped) return
        lost = true
        listener = undefined
        void l.close().catch(() => undefined)
        startPolling(`the registry channel's connection was lost (${reason})`)
        retryTimer = setTimeout(() => void connect(), delay)
        delay = Math.min(delay * 2, backoff.maxMs)
      })
      stopPolling()
      void emit.single({ _tag: "Mode", mode: "listen", reason: "listening on the registry channel" })
      check("listen")
    }
    void connect()

    return Effect.promise(async () => {
      stopped = true
      stopPolling()
      if (retryTimer !== undefined) clearTimeout(retryTimer)
      await listener?.close().catch(() => undefined)
      await reading
    })
  })
