/** The window of a trading day a stream stores, on the venue's (New York) clock. */
import { extendedHoursMs, NYSE } from '../../market/calendar';
import { ValidationError } from '../../model/errors';

/** The regular session (09:30–16:00, 13:00 on early closes) or 04:00–20:00 New York; a closed day is an error. */
export function streamWindow(
  date: string,
  session: 'regular' | 'extended' = 'regular',
): {
  fromMs: number;
  untilMs: number;
} {
  const s = NYSE.sessionFor(date);
  if (!s)
    throw new ValidationError('date', `${date} is not an NYSE trading day (weekend, holiday or closure)`);
  if (session === 'extended') {
    const x = extendedHoursMs(date)!;
    return { fromMs: x.startMs, untilMs: x.endMs };
  }
  return { fromMs: s.openMs, untilMs: s.closeMs };
}
