import { describeRealNode } from './helpers/kube-node-suite.js';

// The real node through an abort, a controller SIGKILL and a rollback: see test/helpers/kube-node-suite.ts.
describeRealNode('faults', ['abort', 'controller-kill', 'rollback']);
