// node-forge's ASN.1 layer on its own: lib/pki uses nothing else of forge, and importing the package's
// index would bundle all of it (TLS, ciphers, PKCS#12) into every Lambda.
declare module 'node-forge/lib/asn1.js' {
  import type forge from 'node-forge';

  const asn1: typeof forge.asn1;
  export default asn1;
}
