import GRPCNIOTransportHTTP2

/// `--tls-cert/--tls-key/--tls-ca` (SPEC section 8), the same three on the master and on an agent.
/// On the master a CA means mutual TLS: an agent must show a certificate that CA signed.
public struct AgentTLS: Sendable, Equatable {
    public var certificate: String?
    public var key: String?
    public var authority: String?

    public init(certificate: String?, key: String?, authority: String?) {
        (self.certificate, self.key, self.authority) = (certificate, key, authority)
    }

    public var isEnabled: Bool { certificate != nil || authority != nil }

    /// What is missing, said as the operator would fix it; nil when the set is usable.
    public func problem(master: Bool) -> String? {
        if (certificate == nil) != (key == nil) { return "--tls-cert and --tls-key go together" }
        if master && authority != nil && certificate == nil { return "--tls-ca on the master needs --tls-cert and --tls-key" }
        return nil
    }

    var server: HTTP2ServerTransport.Posix.TransportSecurity {
        guard let certificate, let key else { return .plaintext }
        let chain: [TLSConfig.CertificateSource] = [.file(path: certificate, format: .pem)]
        guard let authority else { return .tls(certificateChain: chain, privateKey: .file(path: key, format: .pem)) }
        return .mTLS(certificateChain: chain, privateKey: .file(path: key, format: .pem)) { config in
            config.trustRoots = .certificates([.file(path: authority, format: .pem)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    var client: HTTP2ClientTransport.Posix.TransportSecurity {
        guard isEnabled else { return .plaintext }
        let roots: TLSConfig.TrustRootsSource = authority.map { .certificates([.file(path: $0, format: .pem)]) } ?? .systemDefault
        if let certificate, let key {
            return .mTLS(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: key, format: .pem)) { config in
                config.trustRoots = roots
            }
        }
        return .tls { config in config.trustRoots = roots }
    }
}
