// Preload (node --require): native addons fail to load the way they do after a Node upgrade.
const original = process.dlopen;
process.dlopen = function dlopen(module, filename, ...rest) {
  if (String(filename).includes('better_sqlite3')) {
    const error = new Error(
      `The module '${filename}'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing\nthe module (for instance, using \`npm rebuild\` or \`npm install\`).`,
    );
    error.code = 'ERR_DLOPEN_FAILED';
    throw error;
  }
  return original.call(this, module, filename, ...rest);
};
