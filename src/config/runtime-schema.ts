import { z } from 'zod';
import { VOLUME_PATTERN } from './name-patterns.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { integer, issue } from './field-schemas.js';
import { CONTAINER_ENGINES, CONTAINER_NETWORKS } from '../model/app-spec.js';
import { DEFAULT_CONTAINER_ENGINE, DEFAULT_CONTAINER_NETWORK } from './defaults.js';
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

/** Characters an engine argument or volume may not hold: they would be read as more than one value. */
const hasControlCharacters = (text: string): boolean => [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
export { VOLUME_PATTERN } from './name-patterns.js';

export const containerRuntimeSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .regex(/^[^\s-][^\s]*$/, { error: (iss) => `${describeValue(iss.input)} is not an image reference (white space, or a leading dash)` })
      .meta({
        description: 'The image of a new revision; resolved to its image ID when the revision is made (pulled first when not present).',
        examples: ['localhost/web:2026-12-06'],
      })
      .register(fieldHints, { expected: 'an image reference', hint: 'e.g. image: localhost/web:2026-12-06' }),
    engine: z
      .enum(CONTAINER_ENGINES)
      .meta({ description: 'The engine that runs the containers. auto: docker when its socket answers, else podman.', default: DEFAULT_CONTAINER_ENGINE })
      .register(fieldHints, { expected: 'auto, docker or podman', hint: 'write engine: auto' })
      .optional(),
    port: integer(MIN_PORT, MAX_PORT)
      .meta({ description: 'The port the app listens on inside the container (bridge networking). With host networking the app listens on $PORT.' })
      .register(fieldHints, { expected: 'a port number', hint: 'e.g. port: 3000' })
      .optional(),
    network: z
      .enum(CONTAINER_NETWORKS)
      .meta({
        description: 'host: the app listens on $PORT on this machine. bridge: the container port is published on 127.0.0.1.',
        default: DEFAULT_CONTAINER_NETWORK,
      })
      .register(fieldHints, { expected: 'host or bridge', hint: 'write network: host' })
      .optional(),
    volumes: z
      .array(
        z
          .string()
          .regex(VOLUME_PATTERN, {
            error: (iss) => `${describeValue(iss.input)} is not a volume (host path or volume name, then an absolute path inside, then options)`,
          })
          .register(fieldHints, { expected: 'host:container[:options]', hint: 'e.g. "./data:/data" or "cache:/cache:ro"' }),
      )
      .meta({ description: "Volumes as host:container[:options]; a relative host path is relative to the config file's directory." })
      .optional(),
    args: z
      .array(
        z
          .string()
          .min(1)
          .refine((arg) => !hasControlCharacters(arg), { error: 'an engine argument may not hold control characters' }),
      )
      .meta({ description: "Extra arguments for the engine's run command, before the image, e.g. memory or CPU limits.", examples: [['--memory=256m']] })
      .register(fieldHints, { expected: 'a list of strings', hint: 'e.g. args: ["--memory=256m", "--cpus=1"]' })
      .optional(),
  })
  .superRefine((container, ctx) => {
    const network = container.network ?? DEFAULT_CONTAINER_NETWORK;
    if (network === 'bridge' && container.port === undefined)
      ctx.addIssue({ ...issue('bridge networking needs the port the app listens on inside', "add port: 3000 (your app's port)", container), path: ['port'] });
    if (network === 'host' && container.port !== undefined)
      ctx.addIssue({
        ...issue(
          'with host networking the app listens on $PORT, a free port cutover picks per instance',
          'leave port out, or write network: bridge',
          container.port,
        ),
        path: ['port'],
      });
    const first = container.args?.[0];
    if (first !== undefined && !first.startsWith('-'))
      ctx.addIssue({
        ...issue(`${describeValue(first)} is not an engine option (it would be read as the image)`, 'write options such as "--memory=256m"', first),
        path: ['args', 0],
      });
  })
  .meta({ description: 'Run revisions as containers on this machine with Docker or Podman.' });

const RUNTIME_HINT = 'write runtime: { local: {} }, runtime: { container: { image: … } } or runtime: { kubernetes: { image: …, port: 8080 } }';

export const runtimeSchema = z
  .strictObject({
    local: z.strictObject({}).meta({ description: 'Processes on this machine (the default).' }).optional(),
    container: containerRuntimeSchema.optional(),
    kubernetes: kubernetesRuntimeSchema.optional(),
  })
  .refine((runtime) => Object.keys(runtime).length === 1, {
    error: 'runtime names exactly one of local, container and kubernetes',
    params: { hint: RUNTIME_HINT },
  })
  .meta({ description: 'Where instances run: local processes (the default), containers on this machine, or a Kubernetes cluster.' })
  .register(fieldHints, { expected: 'local, container or kubernetes', hint: RUNTIME_HINT });
