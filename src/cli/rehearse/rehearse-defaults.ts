/** Defaults and limits of `cutover rehearse`'s flags, shared by the command, its help and the docs. */
export const DEFAULT_REHEARSE_DEPLOYS = 5;
export const DEFAULT_REHEARSE_CLIENTS = 4;
export const MAX_REHEARSE_DEPLOYS = 100;
export const MAX_REHEARSE_CLIENTS = 256;
