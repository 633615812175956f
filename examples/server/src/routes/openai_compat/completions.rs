//! `POST /v1/chat/completions`: a character's reply in OpenAI's Chat Completions format,
//! whole or streamed, in the stored or the stateless [`Mode`].

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use link::{ConversationId, RequestContext, TurnStream};
use serde_json::{Map, Value};

use super::model_id::{MODE_HEADER, Mode, ModelId};
use super::request::Completion;
use super::stream::Chunks;
use super::wire::{
    AssistantMessage, ChatCompletion, ChatCompletionBody, Choice, CompletionUsage, OpenAiError,
    OpenAiErrorBody, finish_reason,
};
use crate::admission::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::state::AppState;

/// The server's mode for requests that name none (`LINK_OPENAI_MODE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultMode(pub Mode);

/// The character of conversation `link/<id>` replies, as OpenAI's Chat Completions API
/// would: `chat.completion`, or with `stream: true` `chat.completion.chunk` events ending in
/// `data: [DONE]`. Stored mode (`link/<id>:stored`, `X-Link-Mode: stored`, or the server's
/// default) sends the last message, which must be the user's, as a new message of the
/// conversation and stores the turn; stateless mode (`link/<id>:stateless`, `X-Link-Mode:
/// stateless`) answers the client's messages as the history and stores nothing. Either way
/// the persona and Link's rules are the system prompt; `system` and `developer` messages
/// are passed as the user's instructions after them.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    operation_id = "create_chat_completion",
    request_body = ChatCompletionBody,
    params(("x-link-mode" = Option<String>, Header,
        description = "`stored` or `stateless`, when the model name has no suffix")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reply (`chat.completion`), or with `stream` an \
            event stream of `chat.completion.chunk` objects ending in `[DONE]`",
            content((ChatCompletion = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "An invalid or unsupported parameter", body = OpenAiErrorBody),
        (status = 401, description = "No valid token or API key", body = OpenAiErrorBody),
        (status = 403, description = "A storage cap of yours is reached", body = OpenAiErrorBody),
        (status = 404, description = "No such model (conversation) of yours", body = OpenAiErrorBody),
        (status = 409, description = "The conversation changed meanwhile; retry", body = OpenAiErrorBody),
        (status = 413, description = "The body is larger than the server's limit", body = OpenAiErrorBody),
        (status = 415, description = "The body is not JSON", body = OpenAiErrorBody),
        (status = 422, description = "The message is too long, or moderation or a guardrail blocked it", body = OpenAiErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = OpenAiErrorBody),
        (status = 502, description = "The chat model failed", body = OpenAiErrorBody),
        (status = 503, description = "The chat model is busy or failed; retry", body = OpenAiErrorBody),
        (status = 504, description = "The chat model took too long", body = OpenAiErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Extension(DefaultMode(default)): Extension<DefaultMode>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Response {
    let completion = match Completion::parse(body) {
        Ok(completion) => completion,
        Err(error) => return error.with_status(StatusCode::BAD_REQUEST),
    };
    let Some(model) = ModelId::parse(&completion.model) else {
        return not_found(&completion.model);
    };
    let mode = match model.mode(&headers, default) {
        Ok(mode) => mode,
        Err(value) => {
            let error = OpenAiError::invalid(
                MODE_HEADER,
                "invalid_value",
                format!("'{value}' is not a mode: use stored or stateless."),
            );
            return error.with_status(StatusCode::BAD_REQUEST);
        }
    };
    let turn = Turn {
        state: &state,
        ctx: &ctx,
        id: model.conversation,
        completion: &completion,
    };
    let mut response = match turn.run(mode).await {
        Ok(response) => response,
        Err(link::Error::NotFound { what }) if what == "conversation" => {
            return not_found(&completion.model);
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    response
        .headers_mut()
        .insert(MODE_HEADER, HeaderValue::from_static(mode.as_str()));
    response
}

fn not_found(model: &str) -> Response {
    OpenAiError::model_not_found(model).with_status(StatusCode::NOT_FOUND)
}

/// One completion on its way through the engine.
struct Turn<'a> {
    state: &'a AppState,
    ctx: &'a RequestContext,
    id: ConversationId,
    completion: &'a Completion,
}

impl Turn<'_> {
    async fn run(&self, mode: Mode) -> link::Result<Response> {
        let Completion {
            stream, options, ..
        } = self.completion;
        let link = &self.state.link;
        let (ctx, id) = (self.ctx, self.id);
        match (mode, stream) {
            (Mode::Stored, true) => {
                let content = self.new_message()?;
                let turn = link.send_stream_with(ctx, id, content, options).await?;
                Ok(self.streamed(turn))
            }
            (Mode::Stored, false) => {
                let content = self.new_message()?;
                let reply = link.send_with(ctx, id, content, options).await?;
                Ok(self.whole(reply))
            }
            (Mode::Stateless, true) => {
                let history = &self.completion.history;
                let turn = link.stream_detached(ctx, id, history, options).await?;
                Ok(self.streamed(turn))
            }
            (Mode::Stateless, false) => {
                let history = &self.completion.history;
                let reply = link.reply_detached(ctx, id, history, options).await?;
                Ok(self.whole(reply))
            }
        }
    }

    /// The new message of a stored turn: the last one, the user's.
    fn new_message(&self) -> link::Result<&str> {
        self.completion
            .last_user_message()
            .map_err(|e| link::Error::invalid(e.message))
    }

    fn streamed(&self, turn: TurnStream) -> Response {
        let chunks = Chunks {
            id: format!("chatcmpl-{}", link::MessageId::new()),
            created: link::now().unix_timestamp(),
            model: self.completion.model.clone(),
            include_usage: self.completion.include_usage,
        };
        chunks.response(turn)
    }

    fn whole(&self, reply: link::Reply) -> Response {
        let completion = ChatCompletion {
            id: format!("chatcmpl-{}", reply.message.id),
            object: "chat.completion".to_owned(),
            created: reply.message.created_at.unix_timestamp(),
            model: self.completion.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant".to_owned(),
                    content: reply.message.content,
                    refusal: None,
                },
                finish_reason: finish_reason(&reply.stop_reason).to_owned(),
                logprobs: None,
            }],
            usage: reply.usage.map(CompletionUsage::from),
        };
        Json(completion).into_response()
    }
}
