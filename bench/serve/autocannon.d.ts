// The part of autocannon's programmatic API that bench/serve.ts uses (the package ships no types).
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string
      setupRequest?: (req: Request, context: Record<string, unknown>) => Request
    }
    interface Client {
      setBody(body: string): void
    }
    interface Options {
      url: string
      method?: string
      headers?: Record<string, string>
      body?: string
      setupClient?: (client: Client) => void
      connections?: number
      pipelining?: number
      duration?: number
      requests?: ReadonlyArray<Request>
    }
    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total: number
      p50: number
      p90: number
      p99: number
    }
    interface Result {
      duration: number
      requests: Histogram
      latency: Histogram
      throughput: Histogram
      errors: number
      timeouts: number
      non2xx: number
      "2xx": number
    }
  }
  function autocannon(options: autocannon.Options, cb: (err: Error | null, result: autocannon.Result) => void): unknown
  export default autocannon
}
