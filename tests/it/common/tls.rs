//! S3 over HTTPS: a TLS front (rustls over ring, as the tool's own TLS) for the test S3 server,
//! with a certificate for `localhost` issued by a CA made for the one test. The CA's PEM is what
//! a trust store given in `SSL_CERT_FILE` holds.

use std::sync::Arc;
use tokio_rustls::rustls;

pub struct TlsFront {
    /// `https://localhost:{port}`.
    pub endpoint: String,
    /// The issuing CA's certificate, PEM.
    pub ca_pem: String,
}

/// A TLS front to `upstream` (`http://host:port`): every connection's TLS ends here and its
/// bytes go on to the upstream in the clear.
pub async fn tls_front(upstream: &str) -> TlsFront {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    // A name of its own per CA: one CA's certificates are not taken for another's.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, format!("therock-artifacts test CA {n}"));
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let up = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, up) = (acceptor.clone(), up.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
            });
        }
    });
    TlsFront { endpoint: format!("https://localhost:{port}"), ca_pem: ca.pem() }
}
