// Tag hashes for the consume queue and the TAG subscription expression, computed exactly as
// the Java broker and clients do, so codes written by Java brokers and ours agree.

/** Java String.hashCode: h = 31*h + c over UTF-16 code units, wrapping at 32 bits (signed). */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** The consume-queue tagsCode of a message: the hash of its TAGS, 0 when it has none. */
export function tagsCodeOf(tags: string | undefined | null): number {
  if (tags === undefined || tags === null || tags.length === 0) return 0;
  return javaStringHash(tags);
}

export const SUBSCRIBE_ALL = '*';

export interface TagSubscription {
  /** the expression as given ('*' for an empty or missing one) */
  subString: string;
  /** true for '*': every message matches, tags or not */
  all: boolean;
  tagsSet: string[];
  codeSet: number[];
}

// Java's String.trim removes chars <= U+0020 only, not Unicode white space (JS trim does).
function javaTrim(text: string): string {
  let a = 0;
  let b = text.length;
  while (a < b && text.charCodeAt(a) <= 0x20) a++;
  while (b > a && text.charCodeAt(b - 1) <= 0x20) b--;
  return text.slice(a, b);
}

/**
 * Parses a TAG subscription expression the way the Java broker builds SubscriptionData:
 * missing, empty or exactly '*' subscribes to everything; otherwise split on '||', trim each
 * tag, skip empty ones ('*' inside a list is an ordinary tag). Returns undefined where Java
 * throws (nothing but '||' separators): the broker answers SUBSCRIPTION_PARSE_FAILED.
 * A list of blanks (" || ") gives empty sets, which match nothing, as in Java.
 */
export function parseTagSubscription(expression: string | undefined | null): TagSubscription | undefined {
  if (expression === undefined || expression === null || expression.length === 0 || expression === SUBSCRIBE_ALL) {
    return { subString: SUBSCRIBE_ALL, all: true, tagsSet: [], codeSet: [] };
  }
  const parts = expression.split('||');
  // Java's split drops trailing empty strings; if nothing is left it refuses the expression.
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0) return undefined;
  const tagsSet: string[] = [];
  const codeSet: number[] = [];
  for (const part of parts) {
    const tag = javaTrim(part);
    if (tag.length === 0 || tagsSet.includes(tag)) continue;
    tagsSet.push(tag);
    const code = javaStringHash(tag);
    if (!codeSet.includes(code)) codeSet.push(code);
  }
  return { subString: expression, all: false, tagsSet, codeSet };
}

/** The broker's consume-queue filter: '*' matches everything, else the tagsCode must be in codeSet. */
export function matchesTagsCode(subscription: TagSubscription, tagsCode: number): boolean {
  return subscription.all || subscription.codeSet.includes(tagsCode);
}

/** The client-side re-check on the tag string (hash collisions pass the broker's filter). */
export function matchesTags(subscription: TagSubscription, tags: string | undefined | null): boolean {
  if (subscription.all) return true;
  return tags !== undefined && tags !== null && subscription.tagsSet.includes(tags);
}
