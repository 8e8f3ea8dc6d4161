export * from './app-spec.js';
export * from './traffic-plan.js';
export * from './rollout.js';
