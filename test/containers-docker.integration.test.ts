import { startTestDocker } from './helpers/container-engines.js';
import { describeContainerSuite } from './helpers/container-suite.js';

// Issue 18 against a dockerd of this test alone (host network; bridge networking: containers-bridge-docker.integration.test.ts).
describeContainerSuite('docker', startTestDocker);
