// The import rules of .dependency-cruiser.cjs over src/ (or the folders given), through
// dependency-cruiser's API: its CLI refuses Node 20, the API runs on it.
// usage: node scripts/deps.mjs [--config FILE] [DIR…]   exit 1 on any violation.
import path from "node:path"
import { cruise, format } from "dependency-cruiser"
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options"
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config"

const args = process.argv.slice(2)
const at = args.indexOf("--config")
const configFile = at >= 0 ? args[at + 1] : ".dependency-cruiser.cjs"
const dirs = args.filter((_, i) => i !== at && i !== at + 1)
const options = await extractDepcruiseOptions(path.resolve(configFile))
const tsConfig = options.tsConfig?.fileName ? extractTSConfig(options.tsConfig.fileName) : undefined
const result = await cruise(dirs.length > 0 ? dirs : ["src"], options, undefined, { tsConfig })
const out = await format(result.output, { outputType: "err" })
process.stdout.write(out.output)
const { error, warn } = result.output.summary
if (error + warn === 0) console.log(`deps: ${result.output.summary.totalCruised} modules, no import rule broken`)
process.exit(out.exitCode > 0 || error > 0 ? 1 : 0)
