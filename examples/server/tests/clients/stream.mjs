// Streams a reply from link-server's OpenAI-compatible API with the official `openai` npm
// package (installed into ./node_modules by scripts/setup.d/60-openai-clients.sh).
// Run by examples/server/tests/openai_clients.rs with LINK_BASE_URL, LINK_API_KEY and
// LINK_MODEL set; prints one JSON object with what the stream gave.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.LINK_BASE_URL,
  apiKey: process.env.LINK_API_KEY,
});
const stream = await client.chat.completions.create({
  model: process.env.LINK_MODEL,
  messages: [{ role: "user", content: "Tell me a story." }],
  stream: true,
  stream_options: { include_usage: true },
});
const deltas = [];
let finish = null;
let usage = null;
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta?.content) deltas.push(choice.delta.content);
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
console.log(JSON.stringify({ deltas, content: deltas.join(""), finish_reason: finish, usage }));
