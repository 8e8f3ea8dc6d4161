/**
 * ACME certificates: what the daemon wires in. Start one manager per daemon once the shared HTTP
 * listener serves `/.well-known/acme-challenge/TOKEN` from `certPaths(dataDir).challenges`
 * (a file per token whose name passes `isChallengeToken`), call `ensure` with the ACME hosts
 * after each deploy, and `stop` at shutdown. The proxy serves
 * `certPaths(dataDir).hosts/HOST/cert.pem` and `key.pem`.
 */
export { startCertificateManager, type CertificateManager, type CertificateManagerOptions } from './certificate-manager.js';
export { DEFAULT_ACME_DIRECTORY, type AcmeSettings } from './acme-settings.js';
export { CERT_STATES, type CertRecord, type CertState } from './cert-record.js';
export { certPaths, hostCertFiles, type CertPaths } from './cert-paths.js';
export { isChallengeToken } from './challenge-files.js';
export { checkAcmeHost } from './acme-host.js';
