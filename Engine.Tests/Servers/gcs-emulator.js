// Starts the Cloud Storage emulator of firebase-tools (npm) on 127.0.0.1:$PORT for the tests, without its Java rules
// runtime: the rules runtime and manager are replaced by no-ops before start, so only Node is needed. The emulator
// serves the real GCS JSON API paths (uploads, media and metadata GET, ranges, listing, delete) but ignores
// ifGenerationMatch; the tests put a precondition-enforcing proxy in front of it (Engine.Tests/TestSupport).
// Usage: NODE_PATH=<dir with firebase-tools in node_modules> PORT=9199 node gcs-emulator.js
const { StorageEmulator } = require('firebase-tools/lib/emulator/storage/index.js');
const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry.js');

const port = parseInt(process.env.PORT || '9199', 10);
const emulator = new StorageEmulator({
  projectId: 'demo-slatesharp',
  host: '127.0.0.1',
  port,
  auto_download: false,
  rules: { name: 'none', content: '' },
});
emulator._rulesRuntime.start = async () => {};
emulator._rulesRuntime.stop = async () => {};
emulator._rulesManager.start = async () => [];
emulator._rulesManager.stop = async () => {};
EmulatorRegistry.start(emulator).then(
  () => console.log(`gcs emulator listening on 127.0.0.1:${port}`),
  (error) => { console.error(error); process.exit(1); });
