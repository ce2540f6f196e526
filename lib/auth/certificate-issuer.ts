import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { IssuanceError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { DEFAULT_USER_EXTENSIONS, issueSshCertificate } from '../pki/ssh-certificate.js';
import { type DistinguishedName, issueCertificate, positiveSerialHex } from '../pki/x509-certificate.js';
import type { CertificateAuthorities, TlsCa } from './certificate-authorities.js';

/** NotBefore is backdated this much so that a client whose clock runs a little behind accepts the cert. */
export const BACKDATE_MS = 60_000;

/** Principal of SSH user certificates for roles without logins: no account can be called this. */
export const NO_LOGIN_PRINCIPAL = '-mid-no-login';

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface SshCertificateRequest {
  readonly publicKey: KeyObject;
  readonly keyId: string;
  readonly principals: string[];
  readonly validity: Validity;
}

export interface IssuedSshCertificate {
  /** The certificate as one OpenSSH line. */
  readonly line: string;
  readonly serialHex: string;
}

export interface IssuedTlsCertificate extends Validity {
  readonly pem: string;
  /**
   * The serial as the certificate holds it: lowercase hex of the integer without leading zero bytes,
   * as `openssl x509 -serial` and `midctl bots instances` show it, so that audit records match.
   */
  readonly serialHex: string;
}

/**
 * Signs every leaf the service hands out. All names and extensions come from the caller's resolved
 * resource data, never from the request; lifetimes are cut at the CA's own NotAfter.
 */
export class CertificateIssuer {
  constructor(
    private readonly cas: CertificateAuthorities,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  validity(ttlMs: number, ca: TlsCa = this.cas.tlsUser): Validity {
    if (!(ttlMs > 0))
      throw new IssuanceError('invalid_ttl', `certificate TTL must be positive, got ${ttlMs} ms`);
    const now = this.clock.now();
    // Whole seconds, as X.509 and OpenSSH certificates hold it: the `expires_at` given with a
    // certificate is then exactly its notAfter, never up to a second after it.
    const notAfter = Math.floor(Math.min(now + ttlMs, ca.notAfter.getTime()) / 1000) * 1000;
    if (notAfter <= now) {
      throw new IssuanceError('ca_expired', 'the certificate authority has expired; rotate the cluster CAs');
    }
    return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(notAfter) };
  }

  /**
   * A TLS server with an RSA key may be asked for RSA key transport (TLS 1.2 without ECDHE), which is
   * keyEncipherment; a client only ever signs, so client certificates assert digitalSignature alone.
   */
  private serverKeyUsage(publicKey: KeyObject): Array<'digitalSignature' | 'keyEncipherment'> {
    return publicKey.asymmetricKeyType === 'rsa'
      ? ['digitalSignature', 'keyEncipherment']
      : ['digitalSignature'];
  }

  /** A client certificate signed by the TLS user CA. */
  issueClientCertificate(options: {
    publicKey: KeyObject;
    subject: DistinguishedName;
    uris?: string[];
    validity: Validity;
  }): IssuedTlsCertificate {
    const serial = this.random.bytes(16);
    const pem = issueCertificate(
      {
        serial,
        subject: options.subject,
        notBefore: options.validity.notBefore,
        notAfter: options.validity.notAfter,
        publicKey: options.publicKey,
        isCa: false,
        keyUsage: ['digitalSignature'],
        extendedKeyUsage: ['clientAuth'],
        ...(options.uris === undefined ? {} : { uris: options.uris }),
      },
      { certificatePem: this.cas.tlsUser.certificatePem, privateKey: this.cas.tlsUser.privateKey },
    );
    return { pem, serialHex: positiveSerialHex(serial.toString('hex')), ...options.validity };
  }

  /** The service's own serving certificate, signed by the TLS host CA. */
  issueServerCertificate(options: {
    publicKey: KeyObject;
    dnsNames: string[];
    ipAddresses: string[];
    ttlMs: number;
  }): IssuedTlsCertificate {
    const validity = this.validity(options.ttlMs, this.cas.tlsHost);
    const serial = this.random.bytes(16);
    const pem = issueCertificate(
      {
        serial,
        subject: { commonName: options.dnsNames[0] ?? 'localhost', organization: [this.cas.clusterName] },
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
        publicKey: options.publicKey,
        isCa: false,
        keyUsage: this.serverKeyUsage(options.publicKey),
        extendedKeyUsage: ['serverAuth'],
        dnsNames: options.dnsNames,
        ipAddresses: options.ipAddresses,
      },
      { certificatePem: this.cas.tlsHost.certificatePem, privateKey: this.cas.tlsHost.privateKey },
    );
    return { pem, serialHex: positiveSerialHex(serial.toString('hex')), ...validity };
  }

  private sshSerial(): bigint {
    return this.random.bytes(8).readBigUInt64BE(0);
  }

  /** An OpenSSH user certificate whose principals are the roles' logins. */
  issueSshUserCertificate(options: SshCertificateRequest): IssuedSshCertificate {
    return this.issueSsh('user', {
      ...options,
      // OpenSSH reads an empty principal list as "any user"; a name no account can have keeps a
      // certificate of a bot without logins useless for SSH (Teleport does the same).
      principals: options.principals.length > 0 ? options.principals : [NO_LOGIN_PRINCIPAL],
    });
  }

  /** An OpenSSH host certificate for an `ssh_host` output. */
  issueSshHostCertificate(options: SshCertificateRequest): IssuedSshCertificate {
    return this.issueSsh('host', options);
  }

  private issueSsh(type: 'user' | 'host', options: SshCertificateRequest): IssuedSshCertificate {
    const serial = this.sshSerial();
    const line = issueSshCertificate(
      {
        type,
        publicKey: options.publicKey,
        serial,
        keyId: options.keyId,
        principals: options.principals,
        validAfter: options.validity.notBefore,
        validBefore: options.validity.notAfter,
        ...(type === 'user' ? { extensions: [...DEFAULT_USER_EXTENSIONS] } : {}),
        nonce: this.random.bytes(32),
      },
      type === 'user' ? this.cas.sshUser.privateKey : this.cas.sshHost.privateKey,
    );
    return { line, serialHex: serial.toString(16).padStart(16, '0') };
  }
}
