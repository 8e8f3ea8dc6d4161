import { describeRealNode } from './helpers/kube-node-suite.js';

// The real node under deploys: see test/helpers/kube-node-suite.ts (faults in kubernetes-node-faults).
describeRealNode('deploys', ['rolling', 'blue-green', 'canary']);
