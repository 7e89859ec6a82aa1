/**
 * The cluster's certificates: a cluster CA that signs one key and certificate per server ({@link ClusterCa}), the PEM
 * files they live in ({@link Pem}), an agent's own set checked before use ({@link TlsFiles}), and key and trust managers
 * that pick up replaced files on the next handshake ({@link ReloadingKeys}), so certificates rotate without a restart.
 * Every connection between agents is mutual TLS against this CA: a peer without a certificate it signed can neither
 * read, write nor join.
 */
package dev.understudy.tls;
