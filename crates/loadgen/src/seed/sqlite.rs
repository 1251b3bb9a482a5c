//! Tickets and messages into SQLite with the server's entities (so timestamps and JSON are
//! stored exactly as the server stores them), in multi-row inserts, one transaction per chunk.

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, TransactionTrait};
use server::entity::{Ticket, TicketMessage, ticket, ticket_message};

use super::{
    INSERT_BATCH, Progress, add_tallies, chunks,
    generate::{AgentTally, Plan},
};

/// Writes every ticket of the plan; returns the number of messages and the agents' tallies.
pub async fn insert_tickets(
    db: &DatabaseConnection,
    plan: &Plan,
) -> anyhow::Result<(u64, Vec<AgentTally>)> {
    let mut messages = 0u64;
    let mut tallies = vec![AgentTally::default(); plan.people.agents.len()];
    let progress = Progress::new(plan.tickets);
    for range in chunks(plan.tickets) {
        let in_chunk = range.end - range.start;
        let mut tickets = Vec::with_capacity((range.end - range.start) as usize);
        let mut msgs = Vec::new();
        let mut part = vec![AgentTally::default(); plan.people.agents.len()];
        for i in range {
            let g = plan.ticket(i);
            // `reset_all` marks every column as set, so the insert writes all of them.
            tickets.push(ticket::ActiveModel::from(g.ticket).reset_all());
            msgs.extend(
                g.messages
                    .into_iter()
                    .map(|m| ticket_message::ActiveModel::from(m).reset_all()),
            );
            if let Some((agent, tally)) = g.agent {
                part[agent].add(&tally);
            }
        }
        // 31 columns a ticket row: stay under SQLite's 32,766 bound parameters.
        let txn = db.begin().await?;
        for batch in tickets.chunks(INSERT_BATCH) {
            Ticket::insert_many(batch.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for batch in msgs.chunks(INSERT_BATCH * 4) {
            TicketMessage::insert_many(batch.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        messages += msgs.len() as u64;
        add_tallies(&mut tallies, &part);
        progress.tick(in_chunk);
    }
    Ok((messages, tallies))
}
