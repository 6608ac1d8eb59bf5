/**
 * driftgate's import rules (docs/architecture.md), checked by `npm run deps` inside `npm test`.
 * Type-only imports are left out (tsPreCompilationDeps: false): they vanish at compile time and
 * cannot make a cycle at run time.
 */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: break it with a leaf module (types, keys, a read side) both sides import.",
      from: {},
      to: { circular: true }
    },
    {
      name: "domain-imports-nothing-of-ours",
      severity: "error",
      comment: "src/domain is pure data and functions over it: it imports npm libraries only.",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/domain/" }
    },
    {
      name: "pure-maths-imports-only-domain",
      severity: "error",
      comment: "src/ml, src/stats and src/vision are pure leaves: their own folder and domain, nothing else of ours.",
      from: { path: "^src/(ml|stats|vision)/" },
      to: { path: "^src/", pathNot: ["^src/domain/", "^src/$1/"] }
    },
    {
      name: "services-import-only-domain",
      severity: "error",
      comment: "A service is a port: a Context.Tag over domain types, no implementation.",
      from: { path: "^src/services/" },
      to: { path: "^src/", pathNot: ["^src/domain/", "^src/services/"] }
    },
    {
      name: "layers-never-import-programs-or-cli",
      severity: "error",
      comment: "Layers implement services; programs use them. The other way round couples an adapter to a workflow.",
      from: { path: "^src/layers/" },
      to: { path: "^src/(programs/|cli)" }
    },
    {
      name: "programs-never-import-layers",
      severity: "error",
      comment: "Programs ask for services; the edge (cli, tests) picks the layers.",
      from: { path: "^src/programs/" },
      to: { path: "^src/layers/" }
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "A relative import that does not resolve to a file.",
      from: {},
      to: { couldNotResolve: true, path: "^\\." }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/" },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"]
    },
    moduleSystems: ["es6", "cjs"]
  }
}
