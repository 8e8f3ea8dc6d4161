import { crashSuite } from './helpers/crash-suite.js';

// Crash safety of a rolling rollout: see helpers/crash-suite.ts (`npm run soak` runs it longer).
crashSuite('rolling');
