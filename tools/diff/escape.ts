/**
 * Strings from a plan diff are data, never markup: a fork's pull request chooses its stack
 * names, service names, check details and input values, and the trusted workflow posts them
 * under the bot's name. Every such string goes through `inert` (or `inertCode`) before it
 * reaches the comment, so it renders as the literal text it is:
 * - markdown and HTML punctuation become numeric character references (CommonMark decodes them
 *   as text and never as syntax: no emphasis, links, images, code spans, table cells or tags);
 * - `@` and `#` get a zero-width space after them, so GitHub links no user, team or issue;
 * - line breaks become spaces (no headings, lists or quotes), and control and bidirectional
 *   override characters are dropped (no text that reads differently from what it is).
 */

/**
 * ASCII punctuation with a meaning mid-line in GitHub markdown: escapes, code spans, emphasis and
 * strikethrough, links and images (`[`), HTML tags and references, table cells, autolinks (`:`),
 * and `#`. Line-start syntax (headings, lists, quotes) cannot occur: line breaks are gone.
 */
const MARKUP = /[\\`*_[\]<>&|~:#]/g;
const MENTION = /[@#]/g;
/** C0/C1 controls except tab, and Unicode bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const ZERO_WIDTH_SPACE = "\u200b";

/** A string shown as plain text in markdown, whatever it contains. */
export function inert(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return (
    text
      .replace(INVISIBLE, "")
      .replace(/\r\n?|\n|\t/g, " ")
      .replace(MENTION, (c) => `${c}${ZERO_WIDTH_SPACE}`)
      // One pass: the references it writes are not scanned again.
      .replace(MARKUP, (c) => `&#${c.charCodeAt(0)};`)
  );
}

/** Monospace: an HTML code element, since a markdown code span would show the references literally. */
export function inertCode(value: unknown): string {
  return `<code>${inert(value)}</code>`;
}

/** Several lines (a failure message) for a <pre> block: each line inert, the line breaks kept. */
export function inertLines(value: string): string {
  return value
    .split(/\r\n?|\n/)
    .map(inert)
    .join("\n");
}
