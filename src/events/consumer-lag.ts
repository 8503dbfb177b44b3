/**
 * How far behind the stream each event consumer is (metrics): the events recorded after its cursor
 * (stream head seq minus its cursor's seq) and the age of the oldest one it has not consumed.
 */
import type { Db } from '../db/index.ts';
import { parseStreamCursor } from './ordered-read.ts';
import { consumerCursors, firstEventAtAfter, streamHeadSeq } from './store.ts';

export interface EventConsumerLag {
  consumer: string;
  events: number;
  seconds: number;
}

export async function eventConsumerLag(db: Db, nowMs: number): Promise<EventConsumerLag[]> {
  const [cursors, head] = await Promise.all([consumerCursors(db), streamHeadSeq(db)]);
  const out: EventConsumerLag[] = [];
  for (const { name, cursor } of cursors) {
    let seq: number;
    try {
      seq = parseStreamCursor(cursor).seq;
    } catch {
      continue;
    }
    const behind = Math.max(0, head - seq);
    const oldest = behind > 0 ? await firstEventAtAfter(db, seq) : null;
    out.push({
      consumer: name,
      events: behind,
      seconds: oldest === null ? 0 : Math.max(0, (nowMs - Date.parse(oldest)) / 1000),
    });
  }
  return out;
}
