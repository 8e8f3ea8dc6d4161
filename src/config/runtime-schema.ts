import { z } from 'zod';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { integer } from './field-schemas.js';
import { MAX_PORT, MIN_PORT } from './parse-listen.js';
import { kubernetesName, K8S_LABEL_PATTERN } from './kubernetes-name.js';

export const kubernetesRuntimeSchema = z
  .strictObject({
    context: z
      .string()
      .min(1)
      .meta({ description: 'The kubeconfig context to use (KUBECONFIG is honoured). Default: the current context.' })
      .register(fieldHints, { expected: 'a kubeconfig context name', hint: 'e.g. context: prod' })
      .optional(),
    namespace: kubernetesName(K8S_LABEL_PATTERN, 'namespace', 'namespace: shop')
      .meta({ description: "The namespace of the app's objects. Default: the context's namespace, else default." })
      .optional(),
    image: z
      .string()
      .min(1)
      .regex(/^\S+$/, { error: (iss) => `${describeValue(iss.input)} is not an image reference (it has white space)` })
      .meta({ description: 'The container image of a new revision.', examples: ['registry.example/web:1.4.2'] })
      .register(fieldHints, { expected: 'an image reference', hint: 'e.g. image: registry.example/web:1.4.2' }),
    port: integer(MIN_PORT, MAX_PORT)
      .meta({ description: 'The container port the app listens on; the Service and the readiness probe use it.' })
      .register(fieldHints, { expected: 'a port number', hint: 'e.g. port: 8080' }),
    podTemplate: z
      .string()
      .min(1)
      .meta({
        description:
          "A YAML file with a full pod template (env, resources, probes, volumes), relative to the config file's directory. cutover sets the image, the labels and, when the template has none, the readiness probe.",
      })
      .register(fieldHints, { expected: 'a file path', hint: 'e.g. podTemplate: ./k8s/web-pod.yaml' })
      .optional(),
  })
  .meta({ description: 'Run revisions as ReplicaSets on a Kubernetes cluster.' });

export const runtimeSchema = z
  .strictObject({
    local: z.strictObject({}).meta({ description: 'Processes on this machine (the default).' }).optional(),
    kubernetes: kubernetesRuntimeSchema.optional(),
  })
  .refine((runtime) => Object.keys(runtime).length === 1, {
    error: 'runtime names exactly one of local and kubernetes',
    params: { hint: 'write runtime: { local: {} } or runtime: { kubernetes: { image: …, port: 8080 } }' },
  })
  .meta({ description: 'Where instances run: local processes (the default) or a Kubernetes cluster.' })
  .register(fieldHints, { expected: 'local or kubernetes', hint: 'write runtime: { local: {} } or runtime: { kubernetes: { image: …, port: 8080 } }' });
