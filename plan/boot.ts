// Process settings for the plan CLI, imported before anything else (and by bench/plan.ts's floor program,
// which must start the same way to be a fair floor).
//
// tsx turns Node's source-map support on. With it on, Node reads and indexes the source map of every module it
// loads (the Pulumi SDK alone is ~760 modules, each with a .js.map) and maps every `new Error().stack`, which
// the SDK captures for each internal promise. The plan prints messages, not stack traces, so it keeps them off;
// PLAN_DEBUG=1 keeps them on for debugging a crash.
if (!process.env.PLAN_DEBUG) process.setSourceMapsEnabled(false);

export {};
