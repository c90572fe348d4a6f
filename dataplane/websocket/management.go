package websocket

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The @connections API (AWS API Gateway Management API): POST, GET and
// DELETE /{stage}/@connections/{connectionId} on the Api's own endpoints,
// signed with SigV4 by a key of the Api's Management credentials.
//   - Unknown, closing and not-yet-accepted connections are 410
//     GoneException, as on AWS (posting during $connect included).
//   - A connection owned by another replica is served by forwarding the call
//     unchanged to that replica, which verifies the signature itself; if the
//     owner cannot be reached the connection is gone (410).
//   - Errors carry x-amzn-ErrorType, so the AWS SDKs raise their modelled
//     exceptions (GoneException, PayloadTooLargeException, ...).

// ConnectionsSegment is the path segment of the management API.
const ConnectionsSegment = "@connections"

// ManageResult says what an @connections call did, for the access log.
type ManageResult struct {
	// Status is the status sent.
	Status int
	// Message and Hint describe a refusal ("" when the call succeeded).
	Message, Hint string
	// AccessKeyID is the verified caller ("" when not verified).
	AccessKeyID string
	// Forwarded names the replica the call was forwarded to.
	Forwarded string
}

// connectionInfo is the answer of GET @connections/{id}.
type connectionInfo struct {
	ConnectedAt  string   `json:"connectedAt"`
	Identity     identity `json:"identity"`
	LastActiveAt string   `json:"lastActiveAt"`
}

type identity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// timeLayout is the ISO 8601 form of the SDKs' timestamps.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Manage serves one @connections call for connection id on Api a. r's body
// is read here (at most the message limit).
func (h *Hub) Manage(w http.ResponseWriter, r *http.Request, a *table.Api, id string) ManageResult {
	op := r.Method
	res := h.manage(w, r, a, id)
	if h.obs != nil {
		h.obs.Management(op, res.Status)
	}
	return res
}

func (h *Hub) manage(w http.ResponseWriter, r *http.Request, a *table.Api, id string) ManageResult {
	if r.Method != http.MethodPost && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		return awsError(w, http.StatusForbidden, "MissingAuthenticationTokenException", msgMissingToken, r.Method+" is not an @connections operation (POST, GET, DELETE)")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.limits.MaxMessageBytes+1))
	if err != nil {
		return awsError(w, http.StatusBadRequest, "BadRequestException", "Bad Request", "the request body could not be read: "+err.Error())
	}
	key, aerr := verify(r, body, h.now(), a.Management.Secret)
	if aerr != nil {
		return awsError(w, aerr.status, aerr.errType, aerr.message, aerr.hint)
	}
	if int64(len(body)) > h.limits.MaxMessageBytes {
		res := awsError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "Request Entity Too Large",
			"an @connections message is at most "+strconv.FormatInt(h.limits.MaxMessageBytes, 10)+" bytes")
		res.AccessKeyID = key
		return res
	}
	res := h.operate(w, r, body, id)
	res.AccessKeyID = key
	return res
}

// operate runs a verified call on the owner replica: here, or forwarded.
func (h *Hub) operate(w http.ResponseWriter, r *http.Request, body []byte, id string) ManageResult {
	owner, ok := ownerOf(id)
	if !ok {
		return gone(w, id, "not a connection id of this gateway")
	}
	if owner != h.self {
		if r.Header.Get(ForwardedHeader) != "" {
			return gone(w, id, "forwarded here, but this replica does not own the connection")
		}
		addr, found := h.peers.lookup(r.Context(), owner)
		if !found {
			return gone(w, id, "the replica that owned the connection is gone")
		}
		status, ok := h.forward(w, r, body, addr)
		if !ok {
			return gone(w, id, "the replica that owns the connection ("+addr+") did not answer")
		}
		return ManageResult{Status: status, Forwarded: addr}
	}
	c := h.get(id)
	if c == nil || c.closing.Load() {
		return gone(w, id, "no open connection with this id on this replica")
	}
	switch r.Method {
	case http.MethodPost:
		if err := c.send(body, !isText(body)); err != nil {
			c.shut(CloseGoingAway, reasonGoingAway)
			return gone(w, id, "the message could not be written to the client: "+err.Error())
		}
		w.WriteHeader(http.StatusOK)
		return ManageResult{Status: http.StatusOK}
	case http.MethodGet:
		return writeInfo(w, c)
	default:
		c.shut(CloseNormal, reasonDeleted)
		w.WriteHeader(http.StatusNoContent)
		return ManageResult{Status: http.StatusNoContent}
	}
}

func writeInfo(w http.ResponseWriter, c *Conn) ManageResult {
	b, err := json.Marshal(connectionInfo{
		ConnectedAt:  c.ConnectedAt.UTC().Format(timeLayout),
		Identity:     identity{SourceIP: c.SourceIP, UserAgent: c.UserAgent},
		LastActiveAt: c.LastActiveAt().UTC().Format(timeLayout),
	})
	if err != nil {
		return awsError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return ManageResult{Status: http.StatusOK}
}

// gone answers 410 GoneException.
func gone(w http.ResponseWriter, id, why string) ManageResult {
	return awsError(w, http.StatusGone, "GoneException", "", "connection "+id+": "+why)
}

// awsError writes an error of the Management API: x-amzn-ErrorType and a
// JSON body with the message (null when AWS sends none).
func awsError(w http.ResponseWriter, status int, errType, message, hint string) ManageResult {
	body := []byte(`{"message":null}`)
	if message != "" {
		if b, err := json.Marshal(map[string]string{"message": message}); err == nil {
			body = b
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", errType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	msg := message
	if msg == "" {
		msg = errType
	}
	return ManageResult{Status: status, Message: msg, Hint: hint}
}

// ManagementID returns the connection id of an @connections path given as
// its decoded segments after the stage ("@connections", id); ok is false
// for any other path.
func ManagementID(segs []string) (id string, ok bool) {
	if len(segs) != 2 || segs[0] != ConnectionsSegment || segs[1] == "" {
		return "", false
	}
	return segs[1], true
}
