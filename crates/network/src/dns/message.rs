//! One DNS query in, what to do with it out. Pure (the caller passes the
//! records, the task's networks and a rotation counter).
//!
//! - `A` for a swarm name: its addresses (TTL 600, as Docker), rotated
//!   per answer; `AAAA` or another type for a swarm name: no data.
//! - `PTR` for an endpoint address: its name.
//! - Anything else is forwarded upstream, or REFUSED when the task has no
//!   way out (only internal networks).
//! - Over UDP an answer larger than the client's size (512 without EDNS)
//!   is sent truncated, so the client retries over TCP.

use std::net::Ipv4Addr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::dns::records::{Records, normalize};

/// Docker's TTL for swarm names.
pub const TTL: u32 = 600;

/// What to do with a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Not a swarm name: ask the upstream servers.
    Forward,
    /// Not a DNS query: ignore it.
    Drop,
}

/// Answers `query` (wire bytes) for a task on `networks`.
pub fn handle(
    records: &Records,
    networks: &[String],
    query: &[u8],
    rotation: usize,
    forwarding: bool,
    udp: bool,
) -> Outcome {
    let Ok(req) = Message::from_vec(query) else {
        return Outcome::Drop;
    };
    if req.metadata.message_type != MessageType::Query {
        return Outcome::Drop;
    }
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.add_queries(req.queries.iter().cloned());
    if req.edns.is_some() {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        resp.set_edns(e);
    }
    if req.metadata.op_code != OpCode::Query {
        return reply(resp, ResponseCode::NotImp, &req, udp);
    }
    let [q] = req.queries.as_slice() else {
        return reply(resp, ResponseCode::FormErr, &req, udp);
    };
    let qname = q.name().to_ascii();
    let name = normalize(&qname);
    let answers: Option<Vec<RData>> = match q.query_type() {
        RecordType::A => records.lookup(networks, &name).map(|ips| {
            let mut v: Vec<RData> = ips.iter().map(|ip| RData::A(A(*ip))).collect();
            if !v.is_empty() {
                let k = rotation % v.len();
                v.rotate_left(k);
            }
            v
        }),
        RecordType::PTR => arpa_ip(&name)
            .and_then(|ip| records.reverse(networks, ip))
            .and_then(|n| Name::from_ascii(format!("{n}.")).ok())
            .map(|n| vec![RData::PTR(PTR(n))]),
        _ => records.lookup(networks, &name).map(|_| Vec::new()),
    };
    match answers {
        Some(rdata) => {
            let owner = q.name().clone();
            for r in rdata {
                resp.add_answer(Record::from_rdata(owner.clone(), TTL, r));
            }
            reply(resp, ResponseCode::NoError, &req, udp)
        }
        None if forwarding => Outcome::Forward,
        None => reply(resp, ResponseCode::Refused, &req, udp),
    }
}

/// A SERVFAIL answer to `query` (upstream failed), if it parses.
pub fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    let req = Message::from_vec(query).ok()?;
    let mut resp = Message::error_msg(
        req.metadata.id,
        req.metadata.op_code,
        ResponseCode::ServFail,
    );
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.add_queries(req.queries.iter().cloned());
    resp.to_vec().ok()
}

fn reply(mut resp: Message, code: ResponseCode, req: &Message, udp: bool) -> Outcome {
    resp.metadata.response_code = code;
    let Ok(bytes) = resp.to_vec() else {
        return Outcome::Drop;
    };
    let limit = match &req.edns {
        Some(e) => usize::from(e.max_payload().max(512)),
        None => 512,
    };
    if udp && bytes.len() > limit {
        return resp
            .truncate()
            .to_vec()
            .map_or(Outcome::Drop, Outcome::Reply);
    }
    Outcome::Reply(bytes)
}

/// `11.1.0.10.in-addr.arpa` → 10.0.1.11.
fn arpa_ip(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let mut o = [0u8; 4];
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    for (i, p) in parts.iter().rev().enumerate() {
        o[i] = p.parse().ok()?;
    }
    Some(Ipv4Addr::from(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use rswarm_types::{MacAddr, MapEndpoint, MapNetwork, MapService, NetworkMap, ResolutionMode};

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 1, n)
    }

    fn records(backends: usize) -> Records {
        let n = MapNetwork {
            ingress: None,
            encryption: None,
            id: "A".into(),
            name: "appnet".into(),
            vni: 4096,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: ip(1),
            mtu: 1450,
            internal: false,
            endpoints: vec![MapEndpoint {
                ip: ip(11),
                mac: MacAddr([2, 0, 0, 0, 0, 11]),
                vtep: Ipv4Addr::new(198, 18, 0, 1),
                task_id: "t".into(),
                service_id: "w".into(),
                names: vec!["web.1.t".into()],
            }],
            services: vec![MapService {
                id: "w".into(),
                name: "web".into(),
                aliases: vec![],
                mode: ResolutionMode::Vip,
                vip: Some(ip(2)),
                backends: (0..backends)
                    .map(|i| Ipv4Addr::new(10, 0, 2 + (i / 250) as u8, (i % 250) as u8 + 1))
                    .collect(),
            }],
        };
        let mut m = NetworkMap::default();
        m.networks.insert("A".into(), n);
        Records::build(&m)
    }

    fn query(name: &str, t: RecordType, edns: bool) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 4242;
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).expect("name"), t));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            m.set_edns(e);
        }
        m.to_vec().expect("encode")
    }

    fn answer(o: Outcome) -> Message {
        match o {
            Outcome::Reply(b) => Message::from_vec(&b).expect("decode"),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn a_records(m: &Message) -> Vec<Ipv4Addr> {
        m.answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn swarm_names_are_answered_with_ttl_600_and_rotated() {
        let r = records(3);
        let nets = vec!["A".to_string()];
        let m = answer(handle(
            &r,
            &nets,
            &query("web.", RecordType::A, false),
            0,
            true,
            true,
        ));
        assert_eq!(m.metadata.id, 4242);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.recursion_available && m.metadata.recursion_desired);
        assert_eq!(a_records(&m), vec![ip(2)]);
        assert_eq!(m.answers[0].ttl, TTL);
        let t0 = a_records(&answer(handle(
            &r,
            &nets,
            &query("tasks.web.", RecordType::A, false),
            0,
            true,
            true,
        )));
        let t1 = a_records(&answer(handle(
            &r,
            &nets,
            &query("tasks.web.", RecordType::A, false),
            1,
            true,
            true,
        )));
        assert_eq!(t0.len(), 3);
        assert_eq!(t1[0], t0[1], "rotated");
        let aaaa = answer(handle(
            &r,
            &nets,
            &query("web.", RecordType::AAAA, false),
            0,
            true,
            true,
        ));
        assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
        assert!(aaaa.answers.is_empty());
    }

    #[test]
    fn ptr_unknown_names_and_internal_tasks() {
        let r = records(1);
        let nets = vec!["A".to_string()];
        let m = answer(handle(
            &r,
            &nets,
            &query("11.1.0.10.in-addr.arpa.", RecordType::PTR, false),
            0,
            true,
            true,
        ));
        match &m.answers[0].data {
            RData::PTR(p) => assert_eq!(p.0.to_ascii(), "web.1.t.appnet."),
            other => panic!("{other:?}"),
        }
        let q = query("example.com.", RecordType::A, false);
        assert_eq!(handle(&r, &nets, &q, 0, true, true), Outcome::Forward);
        let refused = answer(handle(&r, &nets, &q, 0, false, true));
        assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
        let sf = Message::from_vec(&servfail(&q).expect("servfail")).expect("decode");
        assert_eq!(sf.metadata.response_code, ResponseCode::ServFail);
        assert_eq!(sf.metadata.id, 4242);
        assert_eq!(handle(&r, &nets, b"junk", 0, true, true), Outcome::Drop);
    }

    #[test]
    fn big_udp_answers_are_truncated_unless_edns_or_tcp() {
        let r = records(60);
        let nets = vec!["A".to_string()];
        let q = query("tasks.web.", RecordType::A, false);
        let udp = answer(handle(&r, &nets, &q, 0, true, true));
        assert!(udp.metadata.truncation);
        assert!(udp.answers.is_empty());
        let tcp = answer(handle(&r, &nets, &q, 0, true, false));
        assert_eq!(tcp.answers.len(), 60);
        let edns = answer(handle(
            &r,
            &nets,
            &query("tasks.web.", RecordType::A, true),
            0,
            true,
            true,
        ));
        assert_eq!(edns.answers.len(), 60);
    }
}
