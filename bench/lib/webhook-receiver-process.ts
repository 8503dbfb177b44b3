/**
 * The benchmark's receiver in its own process (a receiver shares no CPU with the replica it measures):
 * started with `fork`, it answers `{ url }`, then on each `count` message the number of distinct webhook-ids
 * acknowledged (2xx) and how many were acknowledged more than once.
 */
import { startWebhookReceiver } from '../../test/webhook-receiver.ts';

const failRate = Number(process.argv[2] ?? '0');
const receiver = await startWebhookReceiver({ countOnly: true, respond: () => (Math.random() < failRate ? 500 : 200) });
process.send!({ url: receiver.url });
process.on('message', async (message: { type: string }) => {
  if (message.type === 'count') {
    const duplicated = [...receiver.delivered.values()].filter((n) => n > 1).length;
    process.send!({ delivered: receiver.delivered.size, duplicated });
  } else if (message.type === 'close') {
    await receiver.close();
    process.exit(0);
  }
});
