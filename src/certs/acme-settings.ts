/** Let's Encrypt's production directory: the one used when `proxy.tls.acme.directory` is not set. */
export const DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** How cutover talks to an ACME certificate authority (`proxy.tls.acme` in cutover.yaml). */
export interface AcmeSettings {
  /** Contact address the CA writes to about expiring certificates and account problems. */
  email: string;
  /** The CA's directory URL; DEFAULT_ACME_DIRECTORY when absent. */
  directory?: string;
  /** A PEM file of CA certificates to trust for the directory's TLS (a private ACME server), on top of the system's roots. */
  caFile?: string;
}
