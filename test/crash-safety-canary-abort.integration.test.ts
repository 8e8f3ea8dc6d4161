import { crashSuite } from './helpers/crash-suite.js';

// Crash safety of a canary with abort rollout: see helpers/crash-suite.ts (`npm run soak` runs it longer).
crashSuite('canary with abort');
