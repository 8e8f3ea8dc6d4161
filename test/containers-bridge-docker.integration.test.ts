import { startTestDocker } from './helpers/container-engines.js';
import { describeContainerBridgeSuite } from './helpers/container-bridge-suite.js';
import { describeInOwnNetns, enterOwnNamespace, insideOwnNetns } from './helpers/own-netns.js';

// Issue 18's `network: bridge` on docker: a bridge is an interface beyond loopback, so this file runs
// itself again in network and mount namespaces of its own, where the engine makes its bridge and
// the daemon, the CLI and the load run beside it; nothing of it outlives the namespaces.
if (insideOwnNetns()) {
  enterOwnNamespace();
  describeContainerBridgeSuite('docker', () => startTestDocker({ bridge: true }));
} else {
  describeInOwnNetns('container apps on docker with bridge networking', import.meta.url);
}
