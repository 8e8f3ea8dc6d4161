import { z } from 'zod';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';

/** A DNS-1123 label: Kubernetes namespaces and Service names. */
export const K8S_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain: names of most Kubernetes objects (HTTPRoute, ReplicaSet). */
export const K8S_SUBDOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function kubernetesName(pattern: RegExp, kind: string, example: string) {
  return z
    .string()
    .regex(pattern, { error: (iss) => `${describeValue(iss.input)} is not a valid Kubernetes ${kind} name` })
    .register(fieldHints, {
      expected: `a ${kind} name`,
      hint: `lowercase letters, digits and dashes, starting and ending with a letter or digit, e.g. ${example}`,
    });
}
