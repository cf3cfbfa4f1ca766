/**
 * The renderer's Content-Security-Policy, sent as a header by the app and by the e2e bridge; index.html
 * carries the same policy in a meta tag for file:// loads, where no header can be set.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
