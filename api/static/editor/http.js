// JSON over the page session: the cookie signs us in, the X-CSRFToken header (from the page's
// <meta name="csrf-token">) passes api/web/__init__.py's CSRF check on POST/PUT/DELETE.

const TOKEN = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class HttpError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function call(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = TOKEN;
  const response = await fetch(url, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, data);
  return data;
}

/** The Chinese reason of a failed call, with the fields it names (only what is said in Chinese
 * and not already in the message: codes such as "stale" are for programs). */
export function reason(err) {
  const errors = err.body?.errors;
  const values = errors && !Array.isArray(errors) && typeof errors === "object" ? Object.values(errors) : [];
  const details = values.filter((v) => typeof v === "string" && /[\u4e00-\u9fff]/.test(v) && !err.message.includes(v)).join("；");
  return details ? `${err.message.replace(/[。.]$/, "")}：${details}` : err.message;
}
