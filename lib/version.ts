/** The release of this package; the auth service reports it in ping and status. Kept equal to package.json by a test. */
export const VERSION = '0.1.0';
