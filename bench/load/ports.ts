// Free TCP ports on 127.0.0.1 for the processes a bench or a test starts.
import net from 'node:net';

/** ports this process has handed out: the kernel may offer a port again once its probe closed */
const handedOut = new Set<number>();

/**
 * A port nothing listens on now, and not handed out before by this process: a group's ports are
 * picked one after another and bound later, and the same port twice made one process of a group
 * fail with EADDRINUSE (seen in a full test run).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port that this process has not handed out already, in 50 tries');
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
