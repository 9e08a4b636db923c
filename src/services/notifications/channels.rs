//! The channels as the router and the dispatcher see them: a snapshot of the table, swapped
//! whole after every change through the API, so the hot paths never read the database.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sqlx::SqlitePool;

use crate::db::notifications::{self as store, NotificationStoreError};
use crate::domain::notification::Channel;

#[derive(Default)]
pub struct ChannelSet {
    current: ArcSwap<Vec<Arc<Channel>>>,
}

impl ChannelSet {
    pub async fn reload(&self, pool: &SqlitePool) -> Result<(), NotificationStoreError> {
        let all = store::list(pool).await?;
        self.current
            .store(Arc::new(all.into_iter().map(Arc::new).collect()));
        Ok(())
    }

    pub fn all(&self) -> Arc<Vec<Arc<Channel>>> {
        self.current.load_full()
    }

    pub fn get(&self, id: i64) -> Option<Arc<Channel>> {
        self.current.load().iter().find(|c| c.id == id).cloned()
    }
}
