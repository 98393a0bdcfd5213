/**
 * Jest on Node 20 cannot load ES-module-only packages (agenda, @agendajs/*, request-filtering-agent): this
 * transform compiles their ES modules to CommonJS with TypeScript's transpiler, which
 * the project already has. The service itself loads them natively (Node >= 20.19).
 */
const ts = require('typescript');
const { createHash } = require('node:crypto');

module.exports = {
  process(source, filename) {
    const output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: false,
        inlineSourceMap: false,
      },
    });
    return { code: output.outputText };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(ts.version).update(filename).update(source).digest('hex');
  },
};
