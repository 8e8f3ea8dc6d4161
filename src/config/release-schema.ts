import { z } from 'zod';
import { DEFAULT_BUILD_TIMEOUT_MS, DEFAULT_RELEASES_KEPT, MAX_RELEASES_KEPT } from './defaults.js';
import { fieldHints } from './field-hints.js';
import { duration, integer } from './field-schemas.js';

const RELEASE_EXAMPLE = 'write release: { from: ./app, exclude: [.git, node_modules], build: [[npm, ci]], keep: 5 }';

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { error: 'expected a path inside the release (no leading / and no ..)' })
  .register(fieldHints, { expected: 'a path inside the release', hint: 'write shared: [uploads, .env]' });

const argv = z
  .array(z.string().min(1))
  .min(1)
  .meta({ description: 'argv of the command, run without a shell in the release directory.', examples: [['npm', 'ci', '--omit=dev']] })
  .register(fieldHints, { expected: 'a command as a list such as [npm, ci]', hint: 'write - [npm, ci, --omit=dev]' });

export const buildStepSchema = z
  .union([
    argv,
    z.strictObject({
      command: argv,
      timeout: duration('The step fails after this long: its process group is killed.', { defaultMs: DEFAULT_BUILD_TIMEOUT_MS, minMs: 1 }).optional(),
    }),
  ])
  .meta({ description: 'One build command: argv as a list, or { command, timeout }.' })
  .register(fieldHints, { expected: 'a command list or { command, timeout }', hint: 'write - [npm, ci]  or  - { command: [npm, run, build], timeout: 10m }' });

export const releaseSchema = z
  .strictObject({
    from: z
      .string()
      .min(1)
      .meta({
        description:
          "The files of a release: a directory, relative to the config file's directory. A symlink (./current) is resolved when the snapshot is taken.",
      })
      .register(fieldHints, { expected: 'a directory', hint: 'write from: ./app' }),
    exclude: z
      .array(z.string().min(1))
      .meta({
        description: 'Paths left out of releases: a name at any depth (.git, *.log) or a path with a slash from the root. The data dir is always left out.',
      })
      .optional(),
    build: z.array(buildStepSchema).meta({ description: 'Commands run in the new release, in order, before anything else of the rollout.' }).optional(),
    shared: z
      .array(relativePath)
      .meta({ description: 'Paths kept across releases in DATA_DIR/shared/APP/ and linked into each release (uploads, .env); not part of the content hash.' })
      .optional(),
    keep: integer(0, MAX_RELEASES_KEPT).meta({ description: 'Releases kept besides those in use.', default: DEFAULT_RELEASES_KEPT }).optional(),
  })
  .meta({
    description: "The app's code as releases: each revision runs its own snapshot of these files, read-only; a rollback runs the old files byte for byte.",
  })
  .register(fieldHints, { expected: 'a mapping', hint: RELEASE_EXAMPLE });
