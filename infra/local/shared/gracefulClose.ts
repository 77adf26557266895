import * as http from "http";

/**
 * Stops a server without failing requests in flight: `server.close` stops
 * accepting and waits for them; connections are closed as soon as they fall
 * idle (keep-alive would hold them open), and after `drainMs` all of them.
 */
export function closeGracefully(server: http.Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
