import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server started by {@link listen}. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly server: http.Server;
  /** Cuts every open connection and stops listening. */
  close(): Promise<void>;
}

/** Starts an Express app (or any request listener) on an ephemeral loopback port. */
export async function listen(app: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
