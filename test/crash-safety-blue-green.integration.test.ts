import { crashSuite } from './helpers/crash-suite.js';

// Crash safety of a blue-green with promote rollout: see helpers/crash-suite.ts (`npm run soak` runs it longer).
crashSuite('blue-green with promote');
