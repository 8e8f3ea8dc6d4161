/** An HTTP header name: a token (RFC 9110 §5.1). */
export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** A header value cutover accepts in the config: printable ASCII, no line breaks. */
export const HEADER_VALUE_PATTERN = /^[\x20-\x7e]{1,4096}$/;
