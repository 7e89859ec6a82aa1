package dev.understudy.api;

import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The API's only listener when it is HTTPS: no plain-HTTP port is opened beside it. The context is the agent's
 * reloading one, so a replaced certificate is served from the next handshake on.
 */
final class HttpsConnector {
  private HttpsConnector() {}

  static Connector create(Server server, HttpConfiguration base, SSLContext context, String host, int port) {
    SslContextFactory.Server tls = new SslContextFactory.Server();
    tls.setSslContext(context);
    HttpConfiguration https = new HttpConfiguration(base);
    SecureRequestCustomizer secure = new SecureRequestCustomizer();
    // clients reach agents by IP address, which carries no SNI name; the certificate's SANs hold the addresses
    secure.setSniHostCheck(false);
    https.addCustomizer(secure);
    ServerConnector c = new ServerConnector(server, new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString()),
        new HttpConnectionFactory(https));
    c.setHost(host);
    c.setPort(port);
    return c;
  }
}
