import { startTestPodman } from './helpers/container-engines.js';
import { describeContainerSuite } from './helpers/container-suite.js';

// Issue 18 against podman with its own storage (host network; engine auto falls back to podman: DOCKER_HOST names no daemon).
describeContainerSuite('podman', startTestPodman);
